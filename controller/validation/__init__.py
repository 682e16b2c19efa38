"""The validation boundary of every object before it enters the store (issue 7): CRD kinds
by the structural schemas of manifests/, core kinds by the API server's rules for the
fields the controller reads, metadata for all. See boundary.py."""

from controller.validation.boundary import Admitted, Rejected, admit

__all__ = ["Admitted", "Rejected", "admit"]
