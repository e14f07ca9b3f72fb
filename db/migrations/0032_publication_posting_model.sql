-- Issue 24: a publication records the posting model it was planned under (every earlier one was additive);
-- a route is ended by its valid_to, so the active flag goes (0031 turned inactive rows into ended ones).
ALTER TABLE "publications" ADD COLUMN "posting_model" text DEFAULT 'additive' NOT NULL;--> statement-breakpoint
ALTER TABLE "publication_targets" DROP COLUMN "active";