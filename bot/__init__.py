"""Releasebot core: settings, database, the release domain, scheduling and wiring."""
