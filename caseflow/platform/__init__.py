"""Running Caseflow: settings, database, Temporal connection, logs, YAML loading, workers'
signs of life."""
