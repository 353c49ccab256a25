"""Assets shipped with OneSEND (stylesheet, icon, .desktop file), read via importlib.resources."""
