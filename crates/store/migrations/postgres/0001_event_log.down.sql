DROP TABLE checkpoints;
DROP INDEX events_subject;
DROP INDEX events_time;
DROP INDEX events_type_seq;
DROP TABLE events;
