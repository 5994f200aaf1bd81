{{ config(
    asset='zero_record_audit',
    severity='WARN',
    description='Game days phase 2 lost (real-loss zero-record runs), with the recovery action. `nba-notify reprocess --plan` turns exactly these into a backfill.'
) }}
SELECT DISTINCT
    processor_name,
    data_date,
    root_cause,
    recovery_action,
    scrapers_without_raw
FROM {{ ref('zero_record_audit') }}
WHERE audit_class = 'real_loss'
ORDER BY data_date, processor_name
