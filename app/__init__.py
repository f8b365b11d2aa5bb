"""counterpart's HTTP service: FastAPI app, settings, storage and the services behind routers."""
