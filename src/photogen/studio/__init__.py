"""The local web studio: a face over the library like ``cli/`` (no method code here)."""
