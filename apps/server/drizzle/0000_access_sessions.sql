CREATE TABLE "access_sessions" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"wallet" text NOT NULL,
	"robot_id" text NOT NULL,
	"created_at" timestamp with time zone NOT NULL,
	"expires_at" timestamp with time zone NOT NULL,
	"ended_at" timestamp with time zone,
	"end_reason" text,
	"payment_tx" text
);
--> statement-breakpoint
CREATE UNIQUE INDEX "access_sessions_active_robot" ON "access_sessions" USING btree ("robot_id") WHERE "access_sessions"."ended_at" is null;--> statement-breakpoint
CREATE UNIQUE INDEX "access_sessions_active_wallet" ON "access_sessions" USING btree ("wallet") WHERE "access_sessions"."ended_at" is null;--> statement-breakpoint
CREATE INDEX "access_sessions_active_expiry" ON "access_sessions" USING btree ("expires_at") WHERE "access_sessions"."ended_at" is null;