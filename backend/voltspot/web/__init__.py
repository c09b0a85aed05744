"""HTTP blueprints, one per audience."""
