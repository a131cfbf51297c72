"""Present page (meeting mode): one scene at a time, full width, sidebar collapsed; the scene is in the URL."""
from layers.app.chrome import chrome
from layers.app.present_page import present_choice, present_nav, present_scene, present_style

lang = chrome("pres_page", sidebar="collapsed")
present_style()
choice = present_choice(lang)
present_nav(choice, lang)
present_scene(choice, lang)
