-- CreateTable
CREATE TABLE "Replica" (
    "id" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "startedAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "seenAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "Replica_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "HostLease" (
    "hostId" INTEGER NOT NULL,
    "owner" TEXT NOT NULL,
    "acquiredAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "expiresAt" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "HostLease_pkey" PRIMARY KEY ("hostId")
);

-- CreateIndex
CREATE INDEX "HostLease_owner_idx" ON "HostLease"("owner");

-- AddForeignKey
ALTER TABLE "HostLease" ADD CONSTRAINT "HostLease_hostId_fkey" FOREIGN KEY ("hostId") REFERENCES "Host"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "HostLease" ADD CONSTRAINT "HostLease_owner_fkey" FOREIGN KEY ("owner") REFERENCES "Replica"("id") ON DELETE CASCADE ON UPDATE CASCADE;

