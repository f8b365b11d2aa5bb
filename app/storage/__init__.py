"""Storage: SQLAlchemy 2.x tables, one repository module per table, and the database's transactions.

`base` holds the declarative base; `datasets`, `enterprises` and `scenarios` are repositories
(tables and the functions that read and write them); `database` connects, creates the tables and
owns transactions and write serialisation. Handlers never build SQL; services call repositories.
"""
