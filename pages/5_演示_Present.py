"""Present page (meeting mode): one scene at a time, full width, sidebar collapsed; the scene is in the URL."""
from layers import ui

lang = ui.chrome("pres_page", sidebar="collapsed")
ui.present_style()
choice = ui.present_choice(lang)
ui.present_nav(choice, lang)
ui.present_scene(choice, lang)
