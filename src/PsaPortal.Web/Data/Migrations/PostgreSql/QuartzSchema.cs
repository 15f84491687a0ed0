namespace PsaPortal.Web.Data.Migrations.PostgreSql;

/// <summary>
/// The tables Quartz 4.7's clustered ADO.NET job store reads and writes (<c>Scheduler:Clustered</c>, docs/adr/0011),
/// under the prefix <c>qrtz_</c> (<see cref="Infrastructure.PortalScheduler.TablePrefix"/>); unquoted, so PostgreSQL
/// folds Quartz's upper-case statements onto these lower-case names. Quartz checks at start that every table and
/// column it uses is there (its default schema validation) and refuses to start otherwise, so a gap here is a start-up
/// error, not a late one. Times are ticks (bigint), job data are the store's serialized string maps (bytea). The
/// execution-history tables are left out: the portal keeps its own run history (System Logs, runs tables).
/// Created and dropped only by the PostgreSQL migration <c>QuartzClusterAndKeyRing</c>; SQLite never has them.
/// </summary>
internal static class QuartzSchema
{
    public const string Create = """
        -- Jobs: one row per durable job (billing-sync, ticket-sync, ...); requests_recovery = re-fire after a node dies.
        CREATE TABLE qrtz_job_details (
            sched_name        text    NOT NULL,
            job_name          text    NOT NULL,
            job_group         text    NOT NULL,
            description       text    NULL,
            job_class_name    text    NOT NULL,
            is_durable        boolean NOT NULL,
            is_nonconcurrent  boolean NOT NULL,
            is_update_data    boolean NOT NULL,
            requests_recovery boolean NOT NULL,
            job_data          bytea   NULL,
            CONSTRAINT pk_qrtz_job_details PRIMARY KEY (sched_name, job_name, job_group)
        );

        -- Triggers: when each fires next and its state (WAITING, ACQUIRED, PAUSED, ...); the kind-specific part is in
        -- one of the tables after it.
        CREATE TABLE qrtz_triggers (
            sched_name              text         NOT NULL,
            trigger_name            text         NOT NULL,
            trigger_group           text         NOT NULL,
            job_name                text         NOT NULL,
            job_group               text         NOT NULL,
            description             text         NULL,
            next_fire_time          bigint       NULL,
            prev_fire_time          bigint       NULL,
            priority                integer      NULL,
            trigger_state           text         NOT NULL,
            trigger_type            text         NOT NULL,
            start_time              bigint       NOT NULL,
            end_time                bigint       NULL,
            calendar_name           text         NULL,
            misfire_instr           smallint     NULL,
            misfire_orig_fire_time  bigint       NULL,
            misfire_threshold       bigint       NULL,
            fixed_delay             boolean      NULL,
            execution_group         varchar(200) NULL,
            preferred_node          varchar(200) NULL,
            preferred_node_auto     boolean      NOT NULL DEFAULT false,
            retry_policy            varchar(250) NULL,
            retry_attempt           integer      NULL,
            continues_trigger_name  text         NULL,
            continues_trigger_group text         NULL,
            continuation_condition  integer      NULL,
            overlap_policy          integer      NULL,
            pause_reason            varchar(250) NULL,
            paused_by               varchar(200) NULL,
            paused_at               bigint       NULL,
            job_data                bytea        NULL,
            CONSTRAINT pk_qrtz_triggers PRIMARY KEY (sched_name, trigger_name, trigger_group),
            CONSTRAINT fk_qrtz_triggers_job FOREIGN KEY (sched_name, job_name, job_group)
                REFERENCES qrtz_job_details (sched_name, job_name, job_group)
        );

        CREATE TABLE qrtz_simple_triggers (
            sched_name      text   NOT NULL,
            trigger_name    text   NOT NULL,
            trigger_group   text   NOT NULL,
            repeat_count    bigint NOT NULL,
            repeat_interval bigint NOT NULL,
            times_triggered bigint NOT NULL,
            CONSTRAINT pk_qrtz_simple_triggers PRIMARY KEY (sched_name, trigger_name, trigger_group),
            CONSTRAINT fk_qrtz_simple_triggers FOREIGN KEY (sched_name, trigger_name, trigger_group)
                REFERENCES qrtz_triggers (sched_name, trigger_name, trigger_group) ON DELETE CASCADE
        );

        CREATE TABLE qrtz_cron_triggers (
            sched_name      text NOT NULL,
            trigger_name    text NOT NULL,
            trigger_group   text NOT NULL,
            cron_expression text NOT NULL,
            time_zone_id    text NULL,
            CONSTRAINT pk_qrtz_cron_triggers PRIMARY KEY (sched_name, trigger_name, trigger_group),
            CONSTRAINT fk_qrtz_cron_triggers FOREIGN KEY (sched_name, trigger_name, trigger_group)
                REFERENCES qrtz_triggers (sched_name, trigger_name, trigger_group) ON DELETE CASCADE
        );

        -- Calendar-interval, daily-interval and recurrence triggers keep their settings in these generic columns.
        CREATE TABLE qrtz_simprop_triggers (
            sched_name    text    NOT NULL,
            trigger_name  text    NOT NULL,
            trigger_group text    NOT NULL,
            str_prop_1    text    NULL,
            str_prop_2    text    NULL,
            str_prop_3    text    NULL,
            int_prop_1    integer NULL,
            int_prop_2    integer NULL,
            long_prop_1   bigint  NULL,
            long_prop_2   bigint  NULL,
            dec_prop_1    numeric NULL,
            dec_prop_2    numeric NULL,
            bool_prop_1   boolean NULL,
            bool_prop_2   boolean NULL,
            time_zone_id  text    NULL,
            CONSTRAINT pk_qrtz_simprop_triggers PRIMARY KEY (sched_name, trigger_name, trigger_group),
            CONSTRAINT fk_qrtz_simprop_triggers FOREIGN KEY (sched_name, trigger_name, trigger_group)
                REFERENCES qrtz_triggers (sched_name, trigger_name, trigger_group) ON DELETE CASCADE
        );

        -- Any other trigger kind, serialized whole.
        CREATE TABLE qrtz_blob_triggers (
            sched_name    text  NOT NULL,
            trigger_name  text  NOT NULL,
            trigger_group text  NOT NULL,
            blob_data     bytea NULL,
            CONSTRAINT pk_qrtz_blob_triggers PRIMARY KEY (sched_name, trigger_name, trigger_group),
            CONSTRAINT fk_qrtz_blob_triggers FOREIGN KEY (sched_name, trigger_name, trigger_group)
                REFERENCES qrtz_triggers (sched_name, trigger_name, trigger_group) ON DELETE CASCADE
        );

        CREATE TABLE qrtz_calendars (
            sched_name    text  NOT NULL,
            calendar_name text  NOT NULL,
            calendar      bytea NOT NULL,
            CONSTRAINT pk_qrtz_calendars PRIMARY KEY (sched_name, calendar_name)
        );

        -- Paused groups: an integration's group while it is disconnected (IntegrationSchedules.PauseAsync).
        CREATE TABLE qrtz_paused_trigger_grps (
            sched_name    text         NOT NULL,
            trigger_group text         NOT NULL,
            pause_reason  varchar(250) NULL,
            paused_by     varchar(200) NULL,
            paused_at     bigint       NULL,
            CONSTRAINT pk_qrtz_paused_trigger_grps PRIMARY KEY (sched_name, trigger_group)
        );

        CREATE TABLE qrtz_paused_job_grps (
            sched_name   text         NOT NULL,
            job_group    text         NOT NULL,
            pause_reason varchar(250) NULL,
            paused_by    varchar(200) NULL,
            paused_at    bigint       NULL,
            CONSTRAINT pk_qrtz_paused_job_grps PRIMARY KEY (sched_name, job_group)
        );

        -- Firings in progress, with the node running each: what cluster recovery re-fires when that node stops checking in.
        CREATE TABLE qrtz_fired_triggers (
            sched_name               text         NOT NULL,
            entry_id                 text         NOT NULL,
            trigger_name             text         NOT NULL,
            trigger_group            text         NOT NULL,
            instance_name            text         NOT NULL,
            fired_time               bigint       NOT NULL,
            sched_time               bigint       NOT NULL,
            priority                 integer      NOT NULL,
            state                    text         NOT NULL,
            job_name                 text         NULL,
            job_group                text         NULL,
            is_nonconcurrent         boolean      NOT NULL,
            requests_recovery        boolean      NULL,
            execution_group          varchar(200) NULL,
            progress                 integer      NULL,
            progress_message         varchar(250) NULL,
            interrupt_requested_time bigint       NULL,
            CONSTRAINT pk_qrtz_fired_triggers PRIMARY KEY (sched_name, entry_id)
        );

        -- One row per node: its last check-in (Scheduler:CheckinInterval).
        CREATE TABLE qrtz_scheduler_state (
            sched_name        text        NOT NULL,
            instance_name     text        NOT NULL,
            last_checkin_time bigint      NOT NULL,
            checkin_interval  bigint      NOT NULL,
            quartz_version    varchar(20) NULL,
            CONSTRAINT pk_qrtz_scheduler_state PRIMARY KEY (sched_name, instance_name)
        );

        -- The rows nodes take FOR UPDATE to change triggers one at a time (TRIGGER_ACCESS, STATE_ACCESS).
        CREATE TABLE qrtz_locks (
            sched_name text NOT NULL,
            lock_name  text NOT NULL,
            CONSTRAINT pk_qrtz_locks PRIMARY KEY (sched_name, lock_name)
        );

        CREATE INDEX ix_qrtz_triggers_due ON qrtz_triggers (sched_name, trigger_state, next_fire_time, priority DESC, misfire_instr);
        CREATE INDEX ix_qrtz_triggers_job ON qrtz_triggers (sched_name, job_name, job_group);
        CREATE INDEX ix_qrtz_triggers_calendar ON qrtz_triggers (sched_name, calendar_name);
        CREATE INDEX ix_qrtz_fired_triggers_recovery ON qrtz_fired_triggers (sched_name, instance_name, requests_recovery);
        CREATE INDEX ix_qrtz_fired_triggers_job ON qrtz_fired_triggers (sched_name, job_name, job_group);
        CREATE INDEX ix_qrtz_fired_triggers_trigger ON qrtz_fired_triggers (sched_name, trigger_name, trigger_group);
        """;

    public const string Drop = """
        DROP TABLE IF EXISTS qrtz_fired_triggers;
        DROP TABLE IF EXISTS qrtz_paused_trigger_grps;
        DROP TABLE IF EXISTS qrtz_paused_job_grps;
        DROP TABLE IF EXISTS qrtz_scheduler_state;
        DROP TABLE IF EXISTS qrtz_locks;
        DROP TABLE IF EXISTS qrtz_simple_triggers;
        DROP TABLE IF EXISTS qrtz_cron_triggers;
        DROP TABLE IF EXISTS qrtz_simprop_triggers;
        DROP TABLE IF EXISTS qrtz_blob_triggers;
        DROP TABLE IF EXISTS qrtz_triggers;
        DROP TABLE IF EXISTS qrtz_job_details;
        DROP TABLE IF EXISTS qrtz_calendars;
        """;
}
