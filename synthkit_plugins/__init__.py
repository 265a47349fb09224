"""synthkit's built-in plugins, one package each, registered through the ``synthkit`` entry-point group."""
