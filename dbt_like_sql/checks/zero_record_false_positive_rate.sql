{{ config(
    asset='zero_record_audit_summary',
    severity='ERROR',
    blocking=false,
    description='Seed 004 success metric: fewer than 1% of zero-record runs are false positives (a run that reported 0 while the rows it wrote are there — the tracking bug). Offending rows are processors at or above 1%.'
) }}
SELECT
    processor_name,
    zero_record_runs,
    false_positive,
    false_positive_pct
FROM {{ ref('zero_record_audit_summary') }}
WHERE false_positive_pct >= 1.0
ORDER BY processor_name
