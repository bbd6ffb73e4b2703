"""Backends turn a rewritten FunctionGraph into a callable (see symgraph.compile.mode)."""
