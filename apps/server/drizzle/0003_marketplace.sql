CREATE TABLE "execution_logs" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"session_id" uuid,
	"robot_id" uuid NOT NULL,
	"user_id" uuid,
	"status" varchar(50) NOT NULL,
	"response_time" double precision NOT NULL,
	"error" text,
	"executed_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "payment_sessions" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"user_id" uuid,
	"robot_id" uuid NOT NULL,
	"amount" numeric(20, 6) NOT NULL,
	"currency" varchar(10) DEFAULT 'USDC' NOT NULL,
	"network" varchar(100) NOT NULL,
	"asset" varchar(255) NOT NULL,
	"recipient_address" varchar(255) NOT NULL,
	"status" varchar(50) DEFAULT 'pending' NOT NULL,
	"tx_signature" varchar(255),
	"payer" varchar(255),
	"service" varchar(100) NOT NULL,
	"service_payload" jsonb,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"expires_at" timestamp with time zone NOT NULL,
	"paid_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "platform_secrets" (
	"name" text PRIMARY KEY NOT NULL,
	"value" text NOT NULL
);
--> statement-breakpoint
CREATE TABLE "robots" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"owner_id" uuid,
	"name" varchar(255) NOT NULL,
	"description" text,
	"price" numeric(20, 6) NOT NULL,
	"currency" varchar(10) DEFAULT 'USDC' NOT NULL,
	"wallet_address" varchar(255) NOT NULL,
	"services" jsonb NOT NULL,
	"endpoint" varchar(500) NOT NULL,
	"status" varchar(50) DEFAULT 'active' NOT NULL,
	"driver" varchar(50) DEFAULT 'http-service' NOT NULL,
	"host" varchar(253),
	"camera_url" varchar(500),
	"suspended_at" timestamp with time zone,
	"suspend_reason" text,
	"deleted_at" timestamp with time zone,
	"execution_count" integer DEFAULT 0 NOT NULL,
	"success_count" integer DEFAULT 0 NOT NULL,
	"total_revenue" numeric(20, 6) DEFAULT '0' NOT NULL,
	"avg_response_time" double precision DEFAULT 0 NOT NULL,
	"success_rate" double precision DEFAULT 1 NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "users" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"email" varchar(255) NOT NULL,
	"password_hash" varchar(255) NOT NULL,
	"role" varchar(50) DEFAULT 'user' NOT NULL,
	"wallet_address" varchar(255),
	"total_spent" numeric(20, 6) DEFAULT '0' NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "execution_logs" ADD CONSTRAINT "execution_logs_session_id_payment_sessions_id_fk" FOREIGN KEY ("session_id") REFERENCES "public"."payment_sessions"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "execution_logs" ADD CONSTRAINT "execution_logs_robot_id_robots_id_fk" FOREIGN KEY ("robot_id") REFERENCES "public"."robots"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "execution_logs" ADD CONSTRAINT "execution_logs_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "payment_sessions" ADD CONSTRAINT "payment_sessions_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "payment_sessions" ADD CONSTRAINT "payment_sessions_robot_id_robots_id_fk" FOREIGN KEY ("robot_id") REFERENCES "public"."robots"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "robots" ADD CONSTRAINT "robots_owner_id_users_id_fk" FOREIGN KEY ("owner_id") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "idx_executions_robot" ON "execution_logs" USING btree ("robot_id","executed_at");--> statement-breakpoint
CREATE INDEX "idx_sessions_user" ON "payment_sessions" USING btree ("user_id");--> statement-breakpoint
CREATE INDEX "idx_sessions_robot" ON "payment_sessions" USING btree ("robot_id");--> statement-breakpoint
CREATE INDEX "idx_sessions_status" ON "payment_sessions" USING btree ("status");--> statement-breakpoint
CREATE UNIQUE INDEX "payment_sessions_tx" ON "payment_sessions" USING btree ("network","tx_signature");--> statement-breakpoint
CREATE INDEX "idx_robots_owner" ON "robots" USING btree ("owner_id");--> statement-breakpoint
CREATE UNIQUE INDEX "robots_host" ON "robots" USING btree ("host");--> statement-breakpoint
CREATE UNIQUE INDEX "users_email" ON "users" USING btree ("email");--> statement-breakpoint
CREATE UNIQUE INDEX "users_wallet" ON "users" USING btree ("wallet_address");