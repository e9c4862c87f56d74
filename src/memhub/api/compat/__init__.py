"""Protocol adapters ("doors"): other memory products' wire protocols, translated into memhub's service.

One package per product (``goodmem/``, ``gumem/``, ``memsy/``, ``gomemory/``), each independent of the
others and holding translation only (parse the foreign request, call one ``MemoryService`` method,
serialise in the foreign shape, errors included). ``adapter.py`` is the interface every door declares,
``doors.py`` the list the app mounts.
"""
