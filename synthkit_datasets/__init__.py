"""synthkit's built-in dataset plugins, registered through the ``synthkit`` entry-point group."""
