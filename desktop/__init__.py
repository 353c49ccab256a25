"""OneSEND application core: profiles, the encrypted vault, assessments, audit and the CLI."""

__version__ = "0.1.0"
