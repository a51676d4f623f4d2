"""One module per provider format; each turns a request body into an :class:`InboundEmail`."""
