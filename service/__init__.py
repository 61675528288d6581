"""The central Flask service: REST API, web pages, authentication, wiring of the libraries."""
