"""GoodMem's filter expressions, parsed into ``core.filters`` (``expression.parse_expression``)."""
