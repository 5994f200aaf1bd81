{{ config(
    group='quality',
    description='The zero-record audit in one table per processor (and "all"): runs per class, the false-positive rate (goal < 1%: a zero that was not really zero means the tracking is wrong again), the share of zeros whose date has data now (the seed\'s "HAS DATA"), and the real-loss partitions by recovery action.',
    tags=['quality', 'seed004']
) }}
SELECT
    COALESCE(processor_name, 'all') AS processor_name,
    COUNT(*) AS zero_record_runs,
    COUNT(*) FILTER (WHERE audit_class = 'false_positive') AS false_positive,
    COUNT(*) FILTER (WHERE audit_class = 'data_from_other_run') AS data_from_other_run,
    COUNT(*) FILTER (WHERE audit_class = 'future_date') AS future_date,
    COUNT(*) FILTER (WHERE audit_class = 'legitimate_zero') AS legitimate_zero,
    COUNT(*) FILTER (WHERE audit_class = 'real_loss') AS real_loss,
    ROUND(100.0 * COUNT(*) FILTER (WHERE audit_class = 'false_positive') / NULLIF(COUNT(*), 0), 2)
        AS false_positive_pct,
    ROUND(100.0 * COUNT(*) FILTER (WHERE audit_class IN ('false_positive', 'data_from_other_run'))
        / NULLIF(COUNT(*), 0), 2) AS has_data_now_pct,
    COUNT(DISTINCT data_date) FILTER (WHERE audit_class = 'real_loss') AS real_loss_partitions,
    COUNT(DISTINCT data_date) FILTER (WHERE recovery_action = 'reprocess_from_raw') AS reprocess_from_raw_partitions,
    COUNT(DISTINCT data_date) FILTER (WHERE recovery_action = 'rescrape') AS rescrape_partitions
FROM {{ ref('zero_record_audit') }}
GROUP BY GROUPING SETS ((processor_name), ())
