CREATE TABLE "consumption_events" (
	"legal_entity" text NOT NULL,
	"source_system" text NOT NULL,
	"document_id" text NOT NULL,
	"line_no" integer NOT NULL,
	"type" text NOT NULL,
	"event_ref" text NOT NULL,
	"payload" jsonb NOT NULL,
	"outcome" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "consumption_events_legal_entity_source_system_document_id_line_no_type_event_ref_pk" PRIMARY KEY("legal_entity","source_system","document_id","line_no","type","event_ref")
);
--> statement-breakpoint
CREATE TABLE "consumption_lines" (
	"legal_entity" text NOT NULL,
	"source_system" text NOT NULL,
	"document_id" text NOT NULL,
	"line_no" integer NOT NULL,
	"reservation_requester" text,
	"reservation_key" text,
	"account" text,
	"cost_center" text,
	"period" text,
	"currency" text,
	"committed" numeric(24, 6) DEFAULT '0' NOT NULL,
	"commit_sequence" integer DEFAULT -1 NOT NULL,
	"invoiced" numeric(24, 6) DEFAULT '0' NOT NULL,
	"closed" boolean DEFAULT false NOT NULL,
	"open_counted" numeric(24, 6) DEFAULT '0' NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "consumption_lines_legal_entity_source_system_document_id_line_no_pk" PRIMARY KEY("legal_entity","source_system","document_id","line_no")
);
--> statement-breakpoint
ALTER TABLE "control_models" ADD COLUMN "consumption_source" text DEFAULT 'erp' NOT NULL;--> statement-breakpoint
ALTER TABLE "consumption_lines" ADD CONSTRAINT "consumption_lines_legal_entity_legal_entities_code_fk" FOREIGN KEY ("legal_entity") REFERENCES "public"."legal_entities"("code") ON DELETE no action ON UPDATE no action;