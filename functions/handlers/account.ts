/** AccountFunction: export, import and deletion of all of a user's data. */
import type { MutationImportDataArgs } from '../../generated/graphql';
import type { NoArgs } from '#contract/lambda-events';
import { fieldHandler, signedIn } from '../shared/handler';
import { deleteUserData, exportUserData, importUserData } from '../account/user-data';

export interface AccountArgs {
  exportData: NoArgs;
  importData: MutationImportDataArgs;
  deleteAccount: NoArgs;
}

export const handler = fieldHandler<AccountArgs>('account', {
  exportData: async (userId) => JSON.stringify(await exportUserData(signedIn(userId))),
  importData: async (userId, args) => importUserData(signedIn(userId), args.data),
  deleteAccount: async (userId) => {
    await deleteUserData(signedIn(userId));
    return true;
  },
});
