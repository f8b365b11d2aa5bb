"""Services, one module per resource.

They call the repositories and the engine and return engine results (or stored records); they
know neither HTTP nor the response schemas.
"""
