"""Storage: SQLAlchemy 2.x tables and the repository functions that read and write them.

Handlers never build SQL; they call the functions here through the services.
"""
