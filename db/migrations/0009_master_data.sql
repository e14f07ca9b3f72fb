CREATE TABLE "cost_center_hierarchy" (
	"legal_entity" text NOT NULL,
	"cost_center" text NOT NULL,
	"parent" text,
	"valid_from" date NOT NULL,
	"valid_to" date,
	"change_id" uuid,
	CONSTRAINT "cost_center_hierarchy_legal_entity_cost_center_valid_from_pk" PRIMARY KEY("legal_entity","cost_center","valid_from")
);
--> statement-breakpoint
CREATE TABLE "master_data_changes" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"legal_entity" text NOT NULL,
	"kind" text NOT NULL,
	"code" text NOT NULL,
	"from_value" text,
	"to_value" text,
	"effective_from" date NOT NULL,
	"status" text DEFAULT 'awaiting_approval' NOT NULL,
	"source_system" text NOT NULL,
	"payload" jsonb NOT NULL,
	"requested_by" text NOT NULL,
	"correlation_id" text NOT NULL,
	"decided_by" text,
	"decided_at" timestamp with time zone,
	"decision_comment" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "legal_entities" ADD COLUMN "sync_tier" text DEFAULT 'hourly' NOT NULL;--> statement-breakpoint
ALTER TABLE "cost_center_hierarchy" ADD CONSTRAINT "cost_center_hierarchy_legal_entity_legal_entities_code_fk" FOREIGN KEY ("legal_entity") REFERENCES "public"."legal_entities"("code") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "master_data_changes" ADD CONSTRAINT "master_data_changes_legal_entity_legal_entities_code_fk" FOREIGN KEY ("legal_entity") REFERENCES "public"."legal_entities"("code") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "master_data_changes_identity" ON "master_data_changes" USING btree ("legal_entity","kind","code",coalesce("to_value", ''),"effective_from");