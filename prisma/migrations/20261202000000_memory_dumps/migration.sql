-- Memory dumps (issue 8): generated from a schema-to-schema diff (Prisma's wasm schema engine),
-- plus the partial unique index at the end, which Prisma's schema language cannot express.

-- CreateTable
CREATE TABLE "MemoryDump" (
    "id" SERIAL NOT NULL,
    "triggerId" INTEGER NOT NULL,
    "vmId" INTEGER NOT NULL,
    "vmName" TEXT NOT NULL,
    "hostName" TEXT NOT NULL,
    "hostUri" TEXT NOT NULL,
    "domainUuid" TEXT NOT NULL,
    "format" TEXT NOT NULL,
    "status" TEXT NOT NULL,
    "error" TEXT,
    "triggeredBy" TEXT NOT NULL,
    "jobId" TEXT,
    "path" TEXT NOT NULL,
    "sha256" TEXT,
    "gzipSha256" TEXT,
    "rawBytes" BIGINT,
    "gzipBytes" BIGINT,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "startedAt" TIMESTAMP(3),
    "finishedAt" TIMESTAMP(3),
    "durationSec" DOUBLE PRECISION,
    "fileCtime" INTEGER,
    "fileMtime" INTEGER,
    "fileAtime" INTEGER,
    "deletedAt" TIMESTAMP(3),

    CONSTRAINT "MemoryDump_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "DumpTrigger" (
    "id" SERIAL NOT NULL,
    "vmIds" TEXT[],
    "triggeredBy" TEXT NOT NULL,
    "refused" TEXT[],
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "DumpTrigger_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "DumpCustodyEvent" (
    "id" SERIAL NOT NULL,
    "dumpId" INTEGER NOT NULL,
    "kind" TEXT NOT NULL,
    "who" TEXT NOT NULL,
    "at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "ok" BOOLEAN,
    "detail" TEXT,

    CONSTRAINT "DumpCustodyEvent_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "MemoryDump_vmId_createdAt_idx" ON "MemoryDump"("vmId", "createdAt");

-- CreateIndex
CREATE INDEX "MemoryDump_status_idx" ON "MemoryDump"("status");

-- CreateIndex
CREATE INDEX "MemoryDump_finishedAt_idx" ON "MemoryDump"("finishedAt");

-- CreateIndex
CREATE INDEX "DumpCustodyEvent_dumpId_at_idx" ON "DumpCustodyEvent"("dumpId", "at");

-- AddForeignKey
ALTER TABLE "MemoryDump" ADD CONSTRAINT "MemoryDump_triggerId_fkey" FOREIGN KEY ("triggerId") REFERENCES "DumpTrigger"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "DumpCustodyEvent" ADD CONSTRAINT "DumpCustodyEvent_dumpId_fkey" FOREIGN KEY ("dumpId") REFERENCES "MemoryDump"("id") ON DELETE CASCADE ON UPDATE CASCADE;


-- At most one queued or running dump per VM, whichever replica triggers it.
CREATE UNIQUE INDEX "MemoryDump_one_active_per_vm" ON "MemoryDump"("vmId") WHERE "status" IN ('queued', 'running');
