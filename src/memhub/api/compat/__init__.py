"""Protocol adapters: other memory products' wire protocols, translated at the door into memhub's service.

Each module is independent of the others and holds translation only (parse the foreign request, call one
``MemoryService`` method, serialise in the foreign shape, errors included); see ARCHITECTURE.md §1–2.
"""
