"""digpy's built-in operators, registered through the ``digpy.operators`` entry points."""
