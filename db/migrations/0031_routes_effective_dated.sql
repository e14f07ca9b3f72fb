-- Issue 24: routing as data. A publication target becomes a route in force from valid_from until valid_to
-- (exclusive, as every dated row here; null: open-ended), with the posting model it takes (null: its ERP's
-- own). Existing rows have always been in force; an inactive one (only a hand edit made one) is kept as history,
-- in force for no day a fiscal year has.
ALTER TABLE "publication_targets" ADD COLUMN "posting_model" text;--> statement-breakpoint
ALTER TABLE "publication_targets" ADD COLUMN "valid_from" date DEFAULT '1900-01-01' NOT NULL;--> statement-breakpoint
ALTER TABLE "publication_targets" ADD COLUMN "valid_to" date;--> statement-breakpoint
UPDATE "publication_targets" SET "valid_to" = '1900-01-02' WHERE NOT "active";--> statement-breakpoint
ALTER TABLE "publication_targets" DROP CONSTRAINT "publication_targets_legal_entity_target_pk";--> statement-breakpoint
ALTER TABLE "publication_targets" ADD CONSTRAINT "publication_targets_legal_entity_target_valid_from_pk" PRIMARY KEY("legal_entity","target","valid_from");--> statement-breakpoint
ALTER TABLE "publication_targets" ADD CONSTRAINT "publication_targets_window" CHECK ("publication_targets"."valid_to" is null or "publication_targets"."valid_to" > "publication_targets"."valid_from");
