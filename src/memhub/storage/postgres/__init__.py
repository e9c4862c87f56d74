"""The PostgreSQL + pgvector store; importing it imports psycopg (the ``postgres`` extra)."""
