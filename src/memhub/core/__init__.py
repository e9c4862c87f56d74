"""memhub's domain: the nouns, the errors, the ports and the one service that holds every use case.

Nothing in here knows about HTTP, SQL or a particular model. It imports the standard library, pydantic
and numpy only (vectors are a domain value: passing them as lists of floats would cost a copy per call on
the hottest path).
"""
