CREATE TABLE "planning_platforms" (
	"legal_entity" text NOT NULL,
	"platform" text NOT NULL,
	"settings" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"valid_from" date DEFAULT '1900-01-01' NOT NULL,
	"valid_to" date,
	CONSTRAINT "planning_platforms_legal_entity_valid_from_pk" PRIMARY KEY("legal_entity","valid_from"),
	CONSTRAINT "planning_platforms_window" CHECK ("planning_platforms"."valid_to" is null or "planning_platforms"."valid_to" > "planning_platforms"."valid_from")
);
--> statement-breakpoint
ALTER TABLE "planning_platforms" ADD CONSTRAINT "planning_platforms_legal_entity_legal_entities_code_fk" FOREIGN KEY ("legal_entity") REFERENCES "public"."legal_entities"("code") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
-- Every entity's platform so far, from the day the entity began (the column it was kept in until now).
INSERT INTO "planning_platforms" ("legal_entity", "platform") SELECT "code", "planning_system" FROM "legal_entities" ON CONFLICT DO NOTHING;
