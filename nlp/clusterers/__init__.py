"""The built-in cluster methods, one module each, named as ``cluster.method`` names them."""
