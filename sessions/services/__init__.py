"""Domain services: the logic behind views, the API and commands (views stay declarative)."""
