"""OpenRosa: checklists as XForms for ODK Collect, KoboCollect and Enketo, and their submissions."""
