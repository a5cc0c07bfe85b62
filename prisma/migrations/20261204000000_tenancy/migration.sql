-- Tenancy (issue 11): token scopes, and owners an admin set on VMs of read-only hosts.

-- AlterTable
ALTER TABLE "ApiToken" ADD COLUMN     "scopeGroup" TEXT,
ADD COLUMN     "scopeUser" TEXT;

-- CreateTable
CREATE TABLE "VmOwner" (
    "vmId" INTEGER NOT NULL,
    "user" TEXT,
    "group" TEXT,
    "updatedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "VmOwner_pkey" PRIMARY KEY ("vmId")
);

-- AddForeignKey
ALTER TABLE "VmOwner" ADD CONSTRAINT "VmOwner_vmId_fkey" FOREIGN KEY ("vmId") REFERENCES "Vm"("id") ON DELETE CASCADE ON UPDATE CASCADE;
