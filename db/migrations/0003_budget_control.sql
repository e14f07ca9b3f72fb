CREATE TABLE "control_freezes" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"legal_entity" text NOT NULL,
	"account" text,
	"cost_center" text,
	"reason" text NOT NULL,
	"frozen_by" text NOT NULL,
	"frozen_at" timestamp with time zone DEFAULT now() NOT NULL,
	"unfrozen_by" text,
	"unfrozen_at" timestamp with time zone,
	"unfreeze_reason" text
);
--> statement-breakpoint
CREATE TABLE "control_models" (
	"legal_entity" text PRIMARY KEY NOT NULL,
	"period_basis" text DEFAULT 'period' NOT NULL
);
--> statement-breakpoint
CREATE TABLE "control_rules" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"legal_entity" text NOT NULL,
	"account" text,
	"cost_center" text,
	"level" text NOT NULL,
	"tolerance_percent" numeric(5, 2) DEFAULT '0' NOT NULL,
	"valid_from" date NOT NULL,
	"valid_to" date,
	CONSTRAINT "control_rules_scope" UNIQUE NULLS NOT DISTINCT("legal_entity","account","cost_center","valid_from")
);
--> statement-breakpoint
CREATE TABLE "funds_requests" (
	"requester" text NOT NULL,
	"idempotency_key" text NOT NULL,
	"request_hash" text NOT NULL,
	"legal_entity" text NOT NULL,
	"outcome" text NOT NULL,
	"status" text NOT NULL,
	"answer" jsonb NOT NULL,
	"correlation_id" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "funds_requests_requester_idempotency_key_pk" PRIMARY KEY("requester","idempotency_key")
);
--> statement-breakpoint
CREATE TABLE "funds_reservations" (
	"requester" text NOT NULL,
	"idempotency_key" text NOT NULL,
	"line_no" integer NOT NULL,
	"legal_entity" text NOT NULL,
	"account" text NOT NULL,
	"cost_center" text NOT NULL,
	"period" text NOT NULL,
	"currency" text NOT NULL,
	"amount" numeric(24, 6) NOT NULL,
	"status" text DEFAULT 'held' NOT NULL,
	CONSTRAINT "funds_reservations_requester_idempotency_key_line_no_pk" PRIMARY KEY("requester","idempotency_key","line_no")
);
--> statement-breakpoint
ALTER TABLE "control_freezes" ADD CONSTRAINT "control_freezes_legal_entity_legal_entities_code_fk" FOREIGN KEY ("legal_entity") REFERENCES "public"."legal_entities"("code") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "control_models" ADD CONSTRAINT "control_models_legal_entity_legal_entities_code_fk" FOREIGN KEY ("legal_entity") REFERENCES "public"."legal_entities"("code") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "control_rules" ADD CONSTRAINT "control_rules_legal_entity_legal_entities_code_fk" FOREIGN KEY ("legal_entity") REFERENCES "public"."legal_entities"("code") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "funds_requests" ADD CONSTRAINT "funds_requests_legal_entity_legal_entities_code_fk" FOREIGN KEY ("legal_entity") REFERENCES "public"."legal_entities"("code") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "control_freezes_in_force" ON "control_freezes" USING btree ("legal_entity") WHERE "control_freezes"."unfrozen_at" is null;