"""A worker's iCalendar feed (the `icalendar` library) behind a revocable secret URL."""
