"""What both SQL stores share: row codecs, column lists, cursors, word rules; no driver is imported here."""
