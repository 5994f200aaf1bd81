{{ config(
    description='Processor runs with a zero-record flag (a successful run that wrote nothing: seed 004\'s false-positive hunt starts here).',
    tags=['monitoring']
) }}
SELECT
    r.id AS run_history_id,
    r.processor_name,
    r.data_date,
    r.run_id,
    r.status,
    r.records_processed,
    r.records_deleted,
    r.started_at,
    r.finished_at,
    r.duration_seconds,
    r.error_message,
    r.status = 'success' AND r.records_processed = 0 AS is_zero_record
FROM {{ source('public', 'processor_run_history') }} AS r
