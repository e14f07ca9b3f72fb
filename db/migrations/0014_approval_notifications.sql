CREATE TABLE "approval_notifications" (
	"key" text PRIMARY KEY NOT NULL,
	"legal_entity" text NOT NULL,
	"cycle_id" text NOT NULL,
	"kind" text NOT NULL,
	"recipients" jsonb NOT NULL,
	"subject" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"sent_at" timestamp with time zone,
	"channels" jsonb
);
--> statement-breakpoint
CREATE INDEX "approval_notifications_cycle" ON "approval_notifications" USING btree ("cycle_id");