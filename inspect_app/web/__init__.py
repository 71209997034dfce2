"""The campaign office dashboard: server-rendered pages for the 专项办 and team leads."""
