"""The package every Cloud Function imports: configuration, data, adapters, pipeline."""
