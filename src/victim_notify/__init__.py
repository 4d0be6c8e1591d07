"""Victim Notify: timely, safe notices to crime victims from the records an agency already keeps."""

__version__ = "0.1.0"
