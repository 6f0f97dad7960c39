"""Settings packages: ``local`` (development and demo), ``production``, ``test``."""
