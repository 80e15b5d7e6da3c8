"""FHIR R5 resources of a case (fhir.resources): CarePlan, Task, ServiceRequest."""
