"""The desk's HTTP routers: the JSON API, documents, and the server-rendered pages."""
