"""The pure front end: ``.dig`` text -> immutable workflow model. No database, no clock."""
